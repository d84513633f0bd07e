<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/typography.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/typography.php';
