<?php
/**
 * WordPress-like lab stub for wp-includes/fonts.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'fonts.php';
