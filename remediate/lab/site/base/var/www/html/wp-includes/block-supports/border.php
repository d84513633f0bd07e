<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/border.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/border.php';
