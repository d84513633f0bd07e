<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/spacing.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/spacing.php';
