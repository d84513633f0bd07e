<?php
/**
 * WordPress-like lab stub for wp-includes/https-detection.php.
 *
 * @package WordPress
 */

$GLOBALS['wp_lab_loaded'][] = 'https-detection.php';
