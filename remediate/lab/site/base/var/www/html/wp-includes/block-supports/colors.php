<?php
/**
 * WordPress-like lab stub for wp-includes/block-supports/colors.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'block-supports/colors.php';
